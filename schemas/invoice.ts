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

/**
 * Few-shot examples, sent before every row (the columns of examples/invoices.csv). They show
 * European decimals, a due date computed from payment terms, OCR misreads fixed by the sums,
 * and a deposit making an invoice partially paid.
 */
export const examples = [
  {
    input: {
      file: "scans/2024-04/factuur_2024-0412.pdf",
      ocr_text:
        "Drukkerij Van Damme BV\nKerkstraat 21, 9000 Gent\nBTW BE0456.789.123\nFACTUUR nr. 2024-0412\nFactuurdatum: 15/04/2024\nBetaling binnen 30 dagen\n\nOmschrijving             Aantal   Prijs    Bedrag\nFlyers A5 4/4 135g        2500    0,064    160,00\nVisitekaartjes             500     0,18     90,00\nOntwerp (uur)              1,5    55,00     82,50\n\nSubtotaal                                  332,50\nBTW 21%                                     69,83\nTOTAAL                                 € 402,33",
    },
    output: {
      vendor: { name: "Drukkerij Van Damme BV", tax_id: "BE0456.789.123", address: "Kerkstraat 21, 9000 Gent" },
      invoice_number: "2024-0412",
      issue_date: "2024-04-15",
      due_date: "2024-05-15",
      currency: "EUR",
      line_items: [
        { description: "Flyers A5 4/4 135g", quantity: 2500, unit_price: 0.064, amount: 160 },
        { description: "Visitekaartjes", quantity: 500, unit_price: 0.18, amount: 90 },
        { description: "Ontwerp (uur)", quantity: 1.5, unit_price: 55, amount: 82.5 },
      ],
      subtotal: 332.5,
      tax: 69.83,
      total: 402.33,
      payment_status: "unpaid",
    },
  },
  {
    input: {
      file: "email/HR-1042.pdf",
      ocr_text:
        "Hollis & Reed Joinery Ltd\nUnit 3, Canal Wharf, Bristol BS1 6RT\nVAT No. GB 987 6543 21\n\nINVOICE  HR-1O42\nDate: 22 April 2024\nTo: Mr P. Okonjo, 14 Cotham Rd\n\nBespoke oak shelving, fitted      1             1,150.00\nSolid oak worktop 3m              1               420.00\nLabour (hrs)                      6    45.00      27O.00\n\nNet                                             1,840.00\nVAT @ 20%                                         368.00\nTotal                                           2,208.00\nLess deposit paid 20/03/24                       -600.00\nBALANCE DUE                                     1,608.00\nPayment within 14 days please.",
    },
    output: {
      vendor: { name: "Hollis & Reed Joinery Ltd", tax_id: "GB 987 6543 21", address: "Unit 3, Canal Wharf, Bristol BS1 6RT" },
      invoice_number: "HR-1042",
      issue_date: "2024-04-22",
      due_date: "2024-05-06",
      currency: "GBP",
      line_items: [
        { description: "Bespoke oak shelving, fitted", quantity: 1, unit_price: null, amount: 1150 },
        { description: "Solid oak worktop 3m", quantity: 1, unit_price: null, amount: 420 },
        { description: "Labour (hrs)", quantity: 6, unit_price: 45, amount: 270 },
      ],
      subtotal: 1840,
      tax: 368,
      total: 2208,
      payment_status: "partially_paid",
    },
  },
];
