// What a new password must be, after NIST SP 800-63B 5.1.1.2: long enough, not absurdly long, not
// the user's own name, not on a list of passwords attackers try first. No composition rules (a digit,
// a symbol, ...) and no expiry: they push people towards predictable passwords, not stronger ones.
import { MAX_PASSWORD_CHARS } from "./password.js";

export const MIN_PASSWORD_CHARS = 12;

// Lower-cased. Only entries of 12+ characters matter (shorter ones fail the length rule); taken
// from the top of public breach-frequency lists, plus this product's own name.
const COMMON = new Set([
  "password1234",
  "password12345",
  "password123456",
  "passwordpassword",
  "123456789012",
  "1234567890123",
  "12345678901234",
  "123456123456",
  "123123123123",
  "qwertyuiop12",
  "qwerty123456",
  "qwertyqwerty",
  "qwertyuiopasdfghjkl",
  "1q2w3e4r5t6y",
  "1qaz2wsx3edc",
  "abcdefghijkl",
  "abc123abc123",
  "iloveyou1234",
  "letmein12345",
  "welcome12345",
  "administrator",
  "admin1234567",
  "changeme1234",
  "p@ssw0rd1234",
  "passw0rd1234",
  "trustno1trustno1",
  "football1234",
  "correcthorsebatterystaple",
  "airlockairlock",
  "airlock12345",
  "airlock123456",
]);

export type PasswordRefusal = "too_short" | "too_long" | "same_as_user_name" | "too_common";

export type PasswordCheck = { ok: true } | { ok: false; reason: PasswordRefusal; message: string };

/** Whether `pw` may become a user's new password; when not, one line saying why. */
export function checkNewPassword(pw: string, opts: { userName?: string } = {}): PasswordCheck {
  // Bounded before walking or normalising the string.
  if (pw.length > 2 * MAX_PASSWORD_CHARS) return tooLong();
  const chars = [...pw].length;
  if (chars > MAX_PASSWORD_CHARS) return tooLong();
  if (chars < MIN_PASSWORD_CHARS)
    return refuse("too_short", `a password must be at least ${MIN_PASSWORD_CHARS} characters long`);
  const folded = pw.normalize("NFKC").toLowerCase();
  const user = opts.userName?.normalize("NFKC").toLowerCase().trim();
  if (user !== undefined && user !== "" && folded.trim() === user)
    return refuse("same_as_user_name", "a password must not be the user name");
  if (COMMON.has(folded) || /^(.)\1*$/u.test(folded))
    return refuse("too_common", "this password is among the first that attackers try: choose another");
  return { ok: true };
}

function tooLong(): PasswordCheck {
  return refuse("too_long", `a password must be at most ${MAX_PASSWORD_CHARS} characters long`);
}

function refuse(reason: PasswordRefusal, message: string): PasswordCheck {
  return { ok: false, reason, message };
}
