"""Tag keys that record an approved budget overrun on an ``aws:budgets/budget:Budget``.

The program writes them (components/cost/stack_budget.py) and the stack-budget policy reads them
(policies/budget_guard.py); this module is their one home. Values follow AWS tag rules.
"""

APPROVED_EUR_TAG = "budget-approved-eur"
APPROVAL_REASON_TAG = "budget-approval-reason"
APPROVER_TAG = "budget-approver"
