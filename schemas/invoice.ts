import { z } from "zod";

/**
 * An invoice, bill or till receipt, typically OCR text.
 *
 *   extract examples/invoices.csv --schema invoice -o invoices.out.csv
 */

// z.iso.date() validates real calendar dates (rejects 2024-02-30). Its JSON Schema is
// `format: "date"` plus a ~250-character regex; the regex is dropped from the JSON
// Schema only (validation is unchanged) to keep every request small.
const isoDate = () => z.iso.date().meta({ pattern: undefined });

export default z.object({
  vendor: z
    .object({
      name: z.string().describe("Seller's name."),
      tax_id: z.string().nullable().describe("Seller's VAT/GST/tax number as written; null if none."),
      address: z.string().nullable().describe("Seller's address on one line; null if none."),
    })
    .describe("Who issued the invoice (not the customer)."),
  invoice_number: z.string().nullable().describe("Invoice or receipt number; null if none."),
  issue_date: isoDate().nullable().describe("Issue date, YYYY-MM-DD; null if not shown."),
  due_date: isoDate()
    .nullable()
    .describe("YYYY-MM-DD; compute from issue date if only terms ('net 30') are given; null if unknown."),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .nullable()
    .describe("ISO 4217 code, e.g. EUR; infer from symbol and country; null if unknowable."),
  line_items: z
    .array(
      z.object({
        description: z.string().describe("Item or service."),
        quantity: z.number().describe("Units, hours, kg...; 1 if not stated."),
        unit_price: z.number().nullable().describe("Price per unit; null if not shown."),
        amount: z.number().describe("Line total."),
      }),
    )
    .describe("Billed lines in document order; [] if none."),
  subtotal: z.number().nullable().describe("Total before tax; null if not shown."),
  tax: z.number().nullable().describe("Total tax (VAT, GST, sales tax), also if included in prices; null if not shown."),
  total: z.number().describe("Grand total including tax."),
  payment_status: z
    .enum(["paid", "unpaid", "partially_paid", "unknown"])
    .describe("paid: receipt or marked paid; partially_paid: deposit or part-payment made."),
});

export const instructions =
  "Write amounts as plain decimals in the invoice currency (1.234,56 € -> 1234.56; CHF 1'250.50 -> 1250.5; ₹1,23,456 -> 123456). The text is OCR output: fix misread characters (O for 0, l for 1) by checking that the lines, subtotal, tax and total add up.";
