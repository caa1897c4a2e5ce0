// openapi-to-postmanv2 ships no types; the one call the SDK generator makes.
declare module 'openapi-to-postmanv2' {
  interface ConversionResult {
    result: boolean;
    reason?: string;
    output: { type: string; data: unknown }[];
  }
  const converter: {
    convert(
      input: { type: 'string' | 'json' | 'file'; data: unknown },
      options: Record<string, unknown>,
      callback: (error: Error | null, result: ConversionResult) => void,
    ): void;
  };
  export default converter;
}
