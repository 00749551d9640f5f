import { allowsNull, alternativesOf, isSchemaObject, propertiesOf, resolveLocalRef, typesOf, type JsonSchema } from "./walk.js";

/**
 * The shortest value that fits a JSON Schema as `z.toJSONSchema()` writes it: objects with every
 * property at its minimum, null where allowed, "" for strings, 0 for numbers, false for booleans,
 * [] for arrays, an enum's shortest member. It is the floor of what a valid reply costs.
 *
 * @example
 * minimalJsonFor(toPromptJsonSchema(z.object({ name: z.string(), age: z.int().nullable() })));
 * // { name: "", age: null }
 */
export function minimalJsonFor(schema: JsonSchema): unknown {
  return minimalValue(schema, schema, new Set());
}

function minimalValue(node: unknown, root: JsonSchema, resolving: Set<string>): unknown {
  if (!isSchemaObject(node)) return null; // `true` / `{}`: anything goes.
  const schema = node;

  if (typeof schema.$ref === "string") {
    const ref = schema.$ref;
    // A schema that must contain itself has no finite minimum; null stops the descent.
    if (resolving.has(ref)) return null;
    resolving.add(ref);
    const value = minimalValue(resolveLocalRef(root, ref), root, resolving);
    resolving.delete(ref);
    return value;
  }
  if ("const" in schema) return schema.const;
  if (allowsNull(schema)) return null;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return shortest(schema.enum);

  const branches = alternativesOf(schema);
  if (branches && branches.length > 0) {
    return shortest(branches.map((branch) => minimalValue(branch, root, resolving)));
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
    return minimalValue({ ...schema, allOf: undefined, ...(schema.allOf[0] as JsonSchema) }, root, resolving);
  }

  const type = typesOf(schema)[0] ?? (schema.properties ? "object" : undefined);
  switch (type) {
    case "object":
      return Object.fromEntries(
        Object.entries(propertiesOf(schema)).map(([key, value]) => [key, minimalValue(value, root, resolving)]),
      );
    case "array": {
      const minItems = typeof schema.minItems === "number" ? schema.minItems : 0;
      return Array.from({ length: minItems }, () => minimalValue(schema.items, root, resolving));
    }
    case "string":
      return "x".repeat(typeof schema.minLength === "number" ? schema.minLength : 0);
    case "number":
    case "integer":
      return 0;
    case "boolean":
      return false;
    default:
      return null;
  }
}

function shortest(values: readonly unknown[]): unknown {
  let best = values[0];
  for (const value of values) {
    if (JSON.stringify(value).length < JSON.stringify(best).length) best = value;
  }
  return best;
}
