// Kazakh IIN and BIN (12 digits), checked as the forms' `format: iin` / `format: bin` require, written
// here from the published rule, independently of the server's Rust code (domain/src/identity.rs):
// the last digit is the sum of the first 11 weighted 1..11, modulo 11; when that is 10, weights
// 3..11,1,2; when that is 10 again, the number is invalid. An IIN begins with the birth date (YYMMDD)
// and its 7th digit gives century and sex (1-6); a BIN begins with the registration year and month and
// its 5th digit is the entity type (4, 5 or 6).

function checkDigitOk(s) {
  if (!/^[0-9]{12}$/.test(s)) return false;
  const d = [...s].map(Number);
  const sum = (weights) => weights.reduce((acc, w, i) => acc + w * d[i], 0) % 11;
  let c = sum([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  if (c === 10) c = sum([3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]);
  return c !== 10 && c === d[11];
}

export function isIin(s) {
  if (!checkDigitOk(s)) return false;
  const century = { 1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000 }[s[6]];
  if (!century) return false;
  const [y, m, day] = [century + Number(s.slice(0, 2)), Number(s.slice(2, 4)), Number(s.slice(4, 6))];
  const date = new Date(Date.UTC(y, m - 1, day));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === day;
}

export function isBin(s) {
  if (!checkDigitOk(s)) return false;
  const month = Number(s.slice(2, 4));
  return month >= 1 && month <= 12 && ["4", "5", "6"].includes(s[4]);
}
