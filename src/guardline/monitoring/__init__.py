"""Detection rules over the audit events, alerts, webhooks, automatic responses, ECS logs and metrics."""
