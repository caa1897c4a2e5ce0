import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One span as exported, whatever the encoding. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown> }[];
  status: { code: number; message: string };
  resource: Record<string, unknown>;
  scope: string;
}

export interface OtlpReceiver {
  /** For OTEL_EXPORTER_OTLP_ENDPOINT (the exporter appends /v1/traces). */
  endpoint: string;
  spans: ReceivedSpan[];
  /** Content types of the export requests received. */
  contentTypes: string[];
  requests: () => number;
  close: () => Promise<void>;
}

export const SPAN_KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

/**
 * A real OTLP/HTTP trace receiver on 127.0.0.1: decodes `application/x-protobuf` (the
 * protobuf wire format, by hand below) and `application/json` export requests into spans.
 */
export async function startOtlpReceiver(port = 0): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  let requests = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests++;
      const body = Buffer.concat(chunks);
      const type = req.headers['content-type'] ?? '';
      contentTypes.push(type);
      if (req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      try {
        spans.push(...(type.includes('json') ? fromJson(body) : fromProtobuf(body)));
      } catch (error) {
        res.writeHead(400).end(String(error));
        return;
      }
      // An empty ExportTraceServiceResponse: full success.
      if (type.includes('json'))
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    spans,
    contentTypes,
    requests: () => requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---- OTLP/JSON (hex ids, camelCase fields) -------------------------------------------

interface JsonKeyValue {
  key: string;
  value: Record<string, unknown>;
}

function jsonValue(value: Record<string, unknown>): unknown {
  if ('stringValue' in value) return value.stringValue;
  if ('boolValue' in value) return value.boolValue;
  if ('intValue' in value) return Number(value.intValue);
  if ('doubleValue' in value) return value.doubleValue;
  if ('arrayValue' in value) {
    const values = (value.arrayValue as { values?: Record<string, unknown>[] }).values ?? [];
    return values.map(jsonValue);
  }
  return undefined;
}

const jsonAttributes = (list: JsonKeyValue[] | undefined) =>
  Object.fromEntries((list ?? []).map((kv) => [kv.key, jsonValue(kv.value)]));

function fromJson(body: Buffer): ReceivedSpan[] {
  const request = JSON.parse(body.toString('utf8')) as {
    resourceSpans?: {
      resource?: { attributes?: JsonKeyValue[] };
      scopeSpans?: {
        scope?: { name?: string };
        spans?: {
          traceId: string;
          spanId: string;
          parentSpanId?: string;
          name: string;
          kind: number;
          attributes?: JsonKeyValue[];
          events?: { name: string; attributes?: JsonKeyValue[] }[];
          status?: { code?: number; message?: string };
        }[];
      }[];
    }[];
  };
  return (request.resourceSpans ?? []).flatMap((resourceSpans) => {
    const resource = jsonAttributes(resourceSpans.resource?.attributes);
    return (resourceSpans.scopeSpans ?? []).flatMap((scopeSpans) =>
      (scopeSpans.spans ?? []).map((span) => ({
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ?? '',
        name: span.name,
        kind: span.kind,
        attributes: jsonAttributes(span.attributes),
        events: (span.events ?? []).map((event) => ({
          name: event.name,
          attributes: jsonAttributes(event.attributes),
        })),
        status: { code: span.status?.code ?? 0, message: span.status?.message ?? '' },
        resource,
        scope: scopeSpans.scope?.name ?? '',
      })),
    );
  });
}

// ---- OTLP/protobuf (opentelemetry/proto/collector/trace/v1) ---------------------------

type Field = { number: number; wire: number; value: bigint | Buffer };

/** Splits one protobuf message into its fields (varint, fixed64, bytes, fixed32). */
function fields(buffer: Buffer): Field[] {
  const out: Field[] = [];
  let offset = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buffer[offset++];
      if (byte === undefined) throw new Error('truncated varint');
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (offset < buffer.length) {
    const key = Number(varint());
    const number = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ number, wire, value: varint() });
    else if (wire === 1) {
      out.push({ number, wire, value: buffer.subarray(offset, offset + 8) });
      offset += 8;
    } else if (wire === 2) {
      const length = Number(varint());
      out.push({ number, wire, value: buffer.subarray(offset, offset + length) });
      offset += length;
    } else if (wire === 5) {
      out.push({ number, wire, value: buffer.subarray(offset, offset + 4) });
      offset += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const all = (list: Field[], number: number) =>
  list.filter((field) => field.number === number).map((field) => field.value);
const bytes = (list: Field[], number: number): Buffer =>
  (all(list, number)[0] as Buffer | undefined) ?? Buffer.alloc(0);
const text = (list: Field[], number: number) => bytes(list, number).toString('utf8');
const integer = (list: Field[], number: number) =>
  Number((all(list, number)[0] as bigint | undefined) ?? 0n);

/** AnyValue: string 1, bool 2, int 3, double 4, array 5. */
function anyValue(buffer: Buffer): unknown {
  const list = fields(buffer);
  const [first] = list;
  if (!first) return undefined;
  switch (first.number) {
    case 1:
      return (first.value as Buffer).toString('utf8');
    case 2:
      return first.value === 1n;
    case 3:
      return Number(BigInt.asIntN(64, first.value as bigint));
    case 4:
      return (first.value as Buffer).readDoubleLE(0);
    case 5:
      return all(fields(first.value as Buffer), 1).map((item) => anyValue(item as Buffer));
    default:
      return undefined;
  }
}

/** Repeated KeyValue (key 1, value 2). */
const pbAttributes = (list: Field[], number: number) =>
  Object.fromEntries(
    all(list, number).map((item) => {
      const kv = fields(item as Buffer);
      return [text(kv, 1), anyValue(bytes(kv, 2))];
    }),
  );

function fromProtobuf(body: Buffer): ReceivedSpan[] {
  const request = fields(body);
  return all(request, 1).flatMap((resourceSpansBytes) => {
    const resourceSpans = fields(resourceSpansBytes as Buffer);
    const resource = pbAttributes(fields(bytes(resourceSpans, 1)), 1);
    return all(resourceSpans, 2).flatMap((scopeSpansBytes) => {
      const scopeSpans = fields(scopeSpansBytes as Buffer);
      const scope = text(fields(bytes(scopeSpans, 1)), 1);
      return all(scopeSpans, 2).map((spanBytes) => {
        const span = fields(spanBytes as Buffer);
        const status = fields(bytes(span, 15));
        return {
          traceId: bytes(span, 1).toString('hex'),
          spanId: bytes(span, 2).toString('hex'),
          parentSpanId: bytes(span, 4).toString('hex'),
          name: text(span, 5),
          kind: integer(span, 6),
          attributes: pbAttributes(span, 9),
          events: all(span, 11).map((eventBytes) => {
            const event = fields(eventBytes as Buffer);
            return { name: text(event, 2), attributes: pbAttributes(event, 3) };
          }),
          status: { code: integer(status, 3), message: text(status, 2) },
          resource,
          scope,
        };
      });
    });
  });
}
