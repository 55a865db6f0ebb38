fn main() -> std::process::ExitCode {
    conlab::cli::main()
}
