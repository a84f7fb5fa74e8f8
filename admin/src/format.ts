const formats = new Map<string, Intl.NumberFormat>();

/** Minor units → "€25.00"; the API never mixes currencies, neither does this. */
export function money(amount: number, currency: string): string {
  let format = formats.get(currency);
  if (!format) {
    format = new Intl.NumberFormat("en-GB", { style: "currency", currency });
    formats.set(currency, format);
  }
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(amount / 10 ** digits);
}

function fractionDigits(currency: string): number {
  return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

export function toMinor(text: string, currency: string): number {
  const digits = fractionDigits(currency);
  return Math.round(Number(text) * 10 ** digits);
}

/** Minor units → the plain number an input shows, with the currency's decimals: 2500 EUR → "25.00", 2500 JPY → "2500". */
export function toMajor(amount: number, currency: string): string {
  const digits = fractionDigits(currency);
  return (amount / 10 ** digits).toFixed(digits);
}

export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" }) : "—";
}

export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}
