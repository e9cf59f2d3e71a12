"""Alert rules: pure evaluation, the reconciler, stored alerts, traffic lights and the schedule."""
