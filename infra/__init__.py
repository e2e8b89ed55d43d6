"""CDK constructs and stack of the NTM tuning pipeline."""
