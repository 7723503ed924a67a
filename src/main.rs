//! The `vangnet` binary. Everything happens in the `vangnet-cli` library.

/// mimalloc: the check path allocates a few small strings per value, and glibc's allocator
/// made up a fifth of its time (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    vangnet_cli::main()
}
