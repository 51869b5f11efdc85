"""Repair cases: a unit from intake to sign-off, with its runs, judgement, plan and repairs (issue #16)."""
