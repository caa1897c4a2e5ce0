-- Trigram matching for GET /products?q= (case-insensitive substring of name, sku, barcode):
-- the products_*_trgm_idx GIN indexes of the next migration need this operator class.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
