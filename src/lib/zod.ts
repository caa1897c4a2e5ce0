import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// Adds `.openapi()` (parameter metadata, examples) to every schema. Import `z` from here.
extendZodWithOpenApi(z);

export { z };
