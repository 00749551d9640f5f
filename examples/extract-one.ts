/**
 * Extracts a single record from a string.
 *
 *   npm run build                      # once: "llm-extract" resolves to this package's dist/
 *   export OPENAI_API_KEY=sk-...       # or OPENAI_BASE_URL=http://localhost:11434/v1 for a local server
 *   npx tsx examples/extract-one.ts
 */
import { extractOne, ExtractError } from "llm-extract";
import ticket, { instructions } from "../schemas/ticket.ts";

const email = `Hi, I'm Ana Silva from Acme Robotics (ana.silva@acme.example).
Order #A-20417 arrived today but one of the two Nimbus Room Sensors (NB-RS-1) is cracked.
Could you send a replacement? We're fine keeping the other one.`;

try {
  // Resolves to the typed record; throws ExtractError once its attempts are used up.
  const data = await extractOne(email, { schema: ticket, instructions });
  console.log(data.category, data.urgency, data.contact.name, data.order_id);
  console.log(data.order_items); // [{ sku: "NB-RS-1", name: "Nimbus Room Sensor", quantity: 1 }], or similar
  console.log(data.requested_action);
} catch (error) {
  if (!(error instanceof ExtractError)) throw error;
  console.error(`${error.code}: ${error.message}`);
  process.exitCode = 1;
}
