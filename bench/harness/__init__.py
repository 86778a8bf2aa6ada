"""What the benchmarks share, not benchmarks themselves: starting Velora as a user deploys it
(`deploy`), the storefront client and shop seeding (`shop`), and checkout's measured phases
(`phases`)."""
