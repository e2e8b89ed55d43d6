"""Run the deployed workflow on one machine: the synthesized state machine, the real handler
code, and emulated AWS services (moto), with no AWS account."""
