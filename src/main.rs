use std::process::ExitCode;

fn main() -> ExitCode {
    kanri::cli::main()
}
