"""Strangler fig: existing Lambda functions behind the platform ALB while services replace them."""
