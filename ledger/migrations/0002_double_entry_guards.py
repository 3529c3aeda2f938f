"""PostgreSQL itself keeps the ledger double-entry and append-only (ledger/models.py):

- deferred constraint triggers on entries and lines check, at commit, that every entry a
  transaction wrote has at least two lines and balances (debits = credits);
- a trigger on entries and lines refuses every UPDATE and DELETE: a correction is a reversing
  entry. TRUNCATE (the test suite's reset) is a different statement and is not refused.
"""

from django.db import migrations

from oms.core.migration_ops import run_sql

CREATE = [
    """
CREATE OR REPLACE FUNCTION ledger_entry_balances() RETURNS trigger AS $$
DECLARE
    entry bigint;
    lines integer;
    difference numeric;
BEGIN
    -- Fired for a new line (its entry) and for a new entry (itself, so an entry posted
    -- without lines fails too).
    IF TG_TABLE_NAME = 'ledger_journalline' THEN
        entry := NEW.entry_id;
    ELSE
        entry := NEW.id;
    END IF;
    SELECT count(*), coalesce(sum(debit), 0) - coalesce(sum(credit), 0)
      INTO lines, difference
      FROM ledger_journalline WHERE entry_id = entry;
    IF lines < 2 OR difference <> 0 THEN
        -- No format placeholders: this SQL is sent through a driver that reads them.
        RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE =
            'journal entry ' || entry || ' does not balance: ' || lines
            || ' lines, debit - credit = ' || difference;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
""",
    """
CREATE CONSTRAINT TRIGGER ledger_journalline_balanced
    AFTER INSERT ON ledger_journalline
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_balances();
""",
    """
CREATE CONSTRAINT TRIGGER ledger_journalentry_balanced
    AFTER INSERT ON ledger_journalentry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_balances();
""",
    """
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE =
        'posted ledger rows are never changed or deleted (' || TG_TABLE_NAME
        || '): post a reversing entry';
END;
$$ LANGUAGE plpgsql;
""",
    """
CREATE TRIGGER ledger_journalentry_immutable
    BEFORE UPDATE OR DELETE ON ledger_journalentry
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
""",
    """
CREATE TRIGGER ledger_journalline_immutable
    BEFORE UPDATE OR DELETE ON ledger_journalline
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
""",
]

DROP = [
    "DROP TRIGGER IF EXISTS ledger_journalline_immutable ON ledger_journalline",
    "DROP TRIGGER IF EXISTS ledger_journalentry_immutable ON ledger_journalentry",
    "DROP FUNCTION IF EXISTS ledger_refuse_change()",
    "DROP TRIGGER IF EXISTS ledger_journalentry_balanced ON ledger_journalentry",
    "DROP TRIGGER IF EXISTS ledger_journalline_balanced ON ledger_journalline",
    "DROP FUNCTION IF EXISTS ledger_entry_balances()",
]


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [run_sql(CREATE, DROP)]
