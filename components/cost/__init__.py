"""Cost: the stack budget, account-wide cost controls and the staging scale-down on a breached budget."""
