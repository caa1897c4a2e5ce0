import { z } from 'zod';

/** What every area may know about the whole process: which environment it runs in. */
export interface Runtime {
  nodeEnv: 'development' | 'test' | 'production';
  isProduction: boolean;
}

/**
 * One area of the environment (http, db, mpesa…): its variables as a Zod object, what
 * production refuses to run without, the rules across its own variables, and the slice of
 * `Config` it builds. A new area (eTIMS, SMS…) is a new file listed in `src/config.ts`.
 */
export interface ConfigArea<Shape extends z.ZodRawShape, Built> {
  schema: z.ZodObject<Shape>;
  /** Variable → why production needs it; reported when the parsed value is unset. */
  requiredInProduction?: Partial<Record<keyof Shape & string, string>>;
  /** Rules across this area's variables, on parsed values (never on raw strings). */
  check?: (env: z.output<z.ZodObject<Shape>>, runtime: Runtime) => string[];
  build: (env: z.output<z.ZodObject<Shape>>, runtime: Runtime) => Built;
}

export function defineArea<Shape extends z.ZodRawShape, Built>(
  area: ConfigArea<Shape, Built>,
): ConfigArea<Shape, Built> {
  return area;
}

// Field types shared by the areas. An empty value never reaches them: `loadConfig` treats
// `NAME=` like an unset variable, so every default applies to it.

export const booleanString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

export const trimmedString = z.string().trim();

/** `a, b,` → `['a', 'b']`; unset → `[]`. */
export const listOfStrings = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  );

export const integer = (min: number, max?: number) => {
  const base = z.coerce.number().int().min(min);
  return max === undefined ? base : base.max(max);
};
