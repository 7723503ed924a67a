//! The `vangnet` binary. Everything happens in the `vangnet-cli` library.

fn main() -> std::process::ExitCode {
    vangnet_cli::main()
}
