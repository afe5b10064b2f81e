"""What an operator runs: the enlace CLI, local Kafka clusters, services and benchmarks."""
