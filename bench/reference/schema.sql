-- Scratch tables for the pgbench reference (performance.md §2): the same sale transaction
-- the API performs, without the API. Lives in its own database, never the app's.
DROP TABLE IF EXISTS outbox, sale_lines, sales, products;
CREATE TABLE products (
  id bigint PRIMARY KEY,
  business_id int NOT NULL,
  sku text NOT NULL,
  name text NOT NULL,
  price_cents int NOT NULL,
  stock int NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_business_idx ON products (business_id, id);
CREATE TABLE sales (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  business_id int NOT NULL,
  client_request_id uuid NOT NULL,
  total_cents int NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (business_id, client_request_id)
);
CREATE TABLE sale_lines (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sale_id bigint NOT NULL REFERENCES sales (id),
  product_id bigint NOT NULL REFERENCES products (id),
  qty int NOT NULL,
  unit_price_cents int NOT NULL
);
CREATE INDEX sale_lines_sale_idx ON sale_lines (sale_id);
CREATE TABLE outbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  business_id int NOT NULL,
  event_type text NOT NULL,
  aggregate_id bigint NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);
CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;
-- 100 businesses × 1,000 products; business b owns ids (b-1)*1000+1 … b*1000.
INSERT INTO products (id, business_id, sku, name, price_cents, stock)
SELECT g, (g - 1) / 1000 + 1, 'SKU-' || g, 'Product ' || g, 1000, 1000000
FROM generate_series(1, 100000) AS g;
ANALYZE;
