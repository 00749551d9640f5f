import { z } from "zod";

/**
 * A job posting, job-board listing or recruiter message.
 *
 *   extract examples/jobs.csv --schema job -o jobs.out.csv
 */
export default z.object({
  title: z.string().describe("Job title, without location, salary or tags like '(m/w/d)'."),
  company: z.string().nullable().describe("Hiring company, not the agency or job board; null if unnamed."),
  location: z
    .object({
      city: z.string().nullable().describe("City; null if none."),
      region: z.string().nullable().describe("State or region; null if none."),
      country: z
        .string()
        .regex(/^[A-Z]{2}$/)
        .nullable()
        .describe("ISO 3166-1 alpha-2 code, e.g. DE; null if unknown."),
    })
    .describe("Main work location; the first if several."),
  remote: z
    .enum(["onsite", "hybrid", "remote", "unknown"])
    .describe("hybrid: some office days; remote: fully remote, even if limited to a country."),
  employment_type: z
    .enum(["full_time", "part_time", "contract", "internship", "temporary", "unknown"])
    .describe("contract: freelance or contractor; temporary: seasonal or temp agency work."),
  salary: z
    .object({
      min: z.number().nullable().describe("Lowest amount in full units (45k -> 45000); null if only a max."),
      max: z.number().nullable().describe("Highest amount; = min for a single figure; null if open-ended."),
      currency: z
        .string()
        .regex(/^[A-Z]{3}$/)
        .nullable()
        .describe("ISO 4217 code, e.g. EUR; null if unknowable."),
      period: z.enum(["hour", "day", "month", "year"]).describe("Period the amounts are per; 'year' if unstated."),
    })
    .nullable()
    .describe("Pay as stated; null if no figure is given."),
  seniority: z
    .enum(["intern", "junior", "mid", "senior", "lead", "manager", "executive", "unknown"])
    .describe("lead: staff/principal/tech lead; manager: manages people; executive: VP or C-level."),
  skills: z.array(z.string()).describe("Hard skills and tools asked for, short names; at most 12."),
  years_experience_min: z
    .int()
    .min(0)
    .nullable()
    .describe("Minimum years of experience ('5+ years' -> 5); null if not stated."),
});

export const instructions =
  "Write pay in full units (80k -> 80000, 600万円 -> 6000000) for the period the posting states. Use 'unknown' for an enum the posting does not settle.";

/**
 * Few-shot examples, sent before every row (the columns of examples/jobs.csv). They show a
 * title without its tags, pay per month in full units, and 'unknown' or null for what a
 * recruiter's message leaves open.
 */
export const examples = [
  {
    input: {
      posting_id: "J-2024-0412",
      source: "jobboard.example",
      text: "Medior DevOps Engineer (32-40 uur)\nBrightwave B.V. · Utrecht · Hybride (2 dagen per week op kantoor)\n€4.200 - €5.600 bruto per maand · Vast contract\n\nWat je meebrengt: minimaal 3 jaar ervaring met Terraform, AWS en GitHub Actions. Kennis van Python is een plus.",
    },
    output: {
      title: "Medior DevOps Engineer",
      company: "Brightwave B.V.",
      location: { city: "Utrecht", region: null, country: "NL" },
      remote: "hybrid",
      employment_type: "full_time",
      salary: { min: 4200, max: 5600, currency: "EUR", period: "month" },
      seniority: "mid",
      skills: ["Terraform", "AWS", "GitHub Actions", "Python"],
      years_experience_min: 3,
    },
  },
  {
    input: {
      posting_id: "J-2024-0438",
      source: "email",
      text: "Hi Alex,\n\nI'm recruiting for a fast-growing climate-tech client (can't name them yet) who need a Lead Data Engineer in Munich, two days a week on site. It's a 12-month freelance engagement, day rate negotiable. Stack: Spark, Airflow, dbt and Kafka.\n\nFancy a quick call this week?\n\nBest,\nNina",
    },
    output: {
      title: "Lead Data Engineer",
      company: null,
      location: { city: "Munich", region: null, country: "DE" },
      remote: "hybrid",
      employment_type: "contract",
      salary: null,
      seniority: "lead",
      skills: ["Spark", "Airflow", "dbt", "Kafka"],
      years_experience_min: null,
    },
  },
];
