const nairobi = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Africa/Nairobi',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/**
 * Daraja's `Timestamp`: YYYYMMDDHHmmss in East Africa Time. Practitioners report "Invalid
 * Timestamp" with UTC; the value only has to match the one inside the Password, so EAT it is.
 */
export function darajaTimestamp(at: Date): string {
  const parts = Object.fromEntries(
    nairobi.formatToParts(at).map((part) => [part.type, part.value]),
  );
  return `${parts.year}${parts.month}${parts.day}${parts.hour}${parts.minute}${parts.second}`;
}

/** STK Password = base64(BusinessShortCode + Passkey + Timestamp). */
export function stkPassword(shortcode: string, passkey: string, timestamp: string): string {
  return Buffer.from(`${shortcode}${passkey}${timestamp}`).toString('base64');
}
