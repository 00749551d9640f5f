import { z } from "zod";

/**
 * A customer support ticket: email, web form, chat or call transcript.
 *
 *   extract examples/tickets.csv --schema ticket -o tickets.out.csv
 */
export default z.object({
  contact: z
    .object({
      name: z.string().nullable().describe("Full name; null if not given."),
      email: z.string().nullable().describe("Email address as written; null if none."),
      company: z.string().nullable().describe("Company or organisation; null if none."),
    })
    .describe("The customer, not our support agent."),
  product: z
    .string()
    .nullable()
    .describe("Product or plan concerned, e.g. 'Nimbus Thermostat T3'; null if unclear."),
  category: z
    .enum(["billing", "bug", "shipping", "account", "feature_request", "other"])
    .describe(
      "billing: charges, refunds; bug: something malfunctions; shipping: delivery, damage, returns; account: login, access; feature_request: asks for something new.",
    ),
  sentiment: z.enum(["positive", "neutral", "negative"]).describe("Customer's overall tone."),
  urgency: z
    .enum(["low", "medium", "high", "critical"])
    .describe(
      "By impact, not tone. critical: outage, safety risk or many users blocked; high: customer blocked or money at stake; medium: inconvenient; low: question or idea.",
    ),
  order_id: z.string().nullable().describe("Order number as written, without '#'; null if none."),
  order_items: z
    .array(
      z.object({
        sku: z.string().nullable().describe("SKU or article code; null if none."),
        name: z.string().describe("Item name."),
        quantity: z.int().min(1).describe("Units; 1 if not stated."),
      }),
    )
    .describe("Items mentioned; [] if none."),
  summary: z.string().describe("One English sentence, at most 25 words, whatever the ticket's language."),
  requested_action: z
    .string()
    .nullable()
    .describe("What the customer asks us to do, in English, e.g. 'refund duplicate charge'; null if nothing."),
});

export const instructions =
  "Quoted earlier messages, agent lines and signatures are context: take the contact and the request from the customer's own words.";

/**
 * Few-shot examples, sent before every row (the columns of examples/tickets.csv). They show the
 * customer's own words winning over a quoted agent reply, urgency by impact, and an English
 * summary of a ticket in another language.
 */
export const examples = [
  {
    input: {
      ticket_id: "T-20417",
      received_at: "2024-05-13T07:48:02+02:00",
      channel: "web_form",
      subject: "Verkeerd artikel ontvangen",
      body: "Goedemorgen,\n\nIn bestelling #NL-30582 zat in plaats van 2x Nimbus Room Sensor (art. NB-RS-1) één Nimbus Smart Plug (NB-SP-2). Kunt u de sensoren alsnog sturen en een retourlabel voor de stekker mailen?\n\nMet vriendelijke groet,\nSanne de Vries\nBakkerij De Korenschoof",
    },
    output: {
      contact: { name: "Sanne de Vries", email: null, company: "Bakkerij De Korenschoof" },
      product: "Nimbus Room Sensor",
      category: "shipping",
      sentiment: "neutral",
      urgency: "medium",
      order_id: "NL-30582",
      order_items: [
        { sku: "NB-RS-1", name: "Nimbus Room Sensor", quantity: 2 },
        { sku: "NB-SP-2", name: "Nimbus Smart Plug", quantity: 1 },
      ],
      summary: "Order NL-30582 contained one Nimbus Smart Plug instead of the two Nimbus Room Sensors ordered.",
      requested_action: "send the two room sensors and a return label for the smart plug",
    },
  },
  {
    input: {
      ticket_id: "T-20452",
      received_at: "2024-05-15T06:31:40Z",
      channel: "email",
      subject: "Re: [Case 88213] Hub offline",
      body: "The reset you suggested didn't help. Since last night's 2.4.1 firmware update our Nimbus Hub H2 shows offline, so none of the 40 thermostats in the Leeds office can be controlled and the building is at 14°C.\n\nTom Hargreaves\nIT Manager, Wexford & Lane Solicitors\ntom.hargreaves@wexfordlane.example\n\n> On 14 May, Priya (Nimbus Support) wrote:\n> Please hold the reset button for 10 seconds and tell us if the hub reconnects.",
    },
    output: {
      contact: { name: "Tom Hargreaves", email: "tom.hargreaves@wexfordlane.example", company: "Wexford & Lane Solicitors" },
      product: "Nimbus Hub H2",
      category: "bug",
      sentiment: "negative",
      urgency: "critical",
      order_id: null,
      order_items: [],
      summary: "Since the 2.4.1 firmware update the office hub is offline, leaving 40 thermostats uncontrollable and the building cold.",
      requested_action: "get the hub back online after the firmware update",
    },
  },
];
