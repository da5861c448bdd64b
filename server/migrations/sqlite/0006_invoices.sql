-- Invoices: one per charged booking, numbered from a gap-free sequence per issuer. The counter
-- and the invoice are written in one transaction, so a number is used only by an invoice that
-- exists. The document is kept as issued (later changes to the account do not alter it).
CREATE TABLE invoice_counters (
    issuer TEXT PRIMARY KEY,
    last_number INTEGER NOT NULL
);

CREATE TABLE invoices (
    booking_id BLOB PRIMARY KEY REFERENCES bookings (id),
    issuer TEXT NOT NULL,
    number INTEGER NOT NULL,
    issued_at TEXT NOT NULL,
    document TEXT NOT NULL,
    UNIQUE (issuer, number)
);
