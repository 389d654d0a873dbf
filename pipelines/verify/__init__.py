"""Verify: status changes and history (:mod:`.status`), deadlines, evidence, ledger import
(:mod:`.ledger_import`, :mod:`.ledger_scope`), users and rights, closed-mine tracking."""
