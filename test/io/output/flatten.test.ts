import { describe, expect, it } from "vitest";
import { flattenRecord } from "../../../src/io/output/flatten.ts";
import { leafColumns, type LeafColumn } from "../../../src/schema/columns.ts";
import { toPromptJsonSchema } from "../../../src/schema/json-schema.ts";
import job from "../../../schemas/job.ts";

describe("flattenRecord", () => {
  const jobLeaves = leafColumns(toPromptJsonSchema(job));
  const posting = {
    title: "Backend engineer",
    company: null,
    location: { city: "Berlin", region: null, country: "DE" },
    remote: "hybrid",
    employment_type: "full_time",
    salary: { min: 70000, max: 85000.5, currency: "EUR", period: "year" },
    seniority: "senior",
    skills: ["Go", "SQL \"quoted\""],
    years_experience_min: 0,
  };

  it("writes strings as-is, numbers via String(), null as empty and arrays as compact JSON", () => {
    expect(flattenRecord(posting, jobLeaves)).toEqual([
      "Backend engineer",
      "",
      "Berlin",
      "",
      "DE",
      "hybrid",
      "full_time",
      "70000",
      "85000.5",
      "EUR",
      "year",
      "senior",
      '["Go","SQL \\"quoted\\""]',
      "0",
    ]);
  });

  it("gives empty cells under a null or missing parent object", () => {
    const cells = flattenRecord({ ...posting, salary: null, location: undefined }, jobLeaves);
    expect(cells.slice(2, 5)).toEqual(["", "", ""]);
    expect(cells.slice(7, 11)).toEqual(["", "", "", ""]);
  });

  it("writes booleans, empty arrays, JSON nulls and free-form objects", () => {
    const leaves: LeafColumn[] = [
      { name: "flag", path: ["flag"], json: false },
      { name: "tags", path: ["tags"], json: true },
      { name: "extra", path: ["extra"], json: true },
      { name: "attributes", path: ["attributes"], json: true },
    ];
    const data = { flag: false, tags: [], extra: null, attributes: { colour: "red", "size,cm": "4" } };
    expect(flattenRecord(data, leaves)).toEqual(["false", "[]", "", '{"colour":"red","size,cm":"4"}']);
  });

  it("never reads inherited properties or writes [object Object]", () => {
    const leaves: LeafColumn[] = [
      { name: "constructor", path: ["constructor"], json: false },
      { name: "when", path: ["when"], json: false },
      { name: "odd", path: ["odd"], json: false },
    ];
    const data = { when: new Date("2024-02-29T12:00:00Z"), odd: { a: 1 } };
    expect(flattenRecord(data, leaves)).toEqual(["", "2024-02-29T12:00:00.000Z", '{"a":1}']);
    expect(flattenRecord(undefined, leaves)).toEqual(["", "", ""]);
  });
});
