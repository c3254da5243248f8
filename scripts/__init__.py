"""Course-staff scripts: template builds, dataset builds, benchmarks, local set-up."""
