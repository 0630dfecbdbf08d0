use clap::Parser;

/// A faster allocator than the system's for a server's many short-lived allocations (request
/// bodies, headers, JSON): docs/benchmarks.md, run 11.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = billhook_server::cli::Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("billhook: could not start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(billhook_server::cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = ?e, "billhook stopped with an error");
            eprintln!("billhook: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
