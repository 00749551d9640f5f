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
