"""我的订阅: the visitor's subscriptions (create, pause, delete), their delivery log, a test send."""
