-- Trigram search on product name/sku/barcode (GIN indexes in the next migration).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
