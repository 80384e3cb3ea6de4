use clap::Parser;
use tracing_subscriber::EnvFilter;

/// Blocking work is SQLite reads and writes and scorings: more threads than
/// this only queue on the same cores and the one writer connection, and
/// each thread costs memory.
const MAX_BLOCKING_THREADS: usize = 64;

fn main() -> std::process::ExitCode {
    limit_malloc_arenas();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .build();
    match runtime {
        Ok(rt) => rt.block_on(run()),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            // The Neo4j driver logs every pooled connection at info.
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,neo4rs=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match renmai::cli::run(renmai::cli::Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// glibc gives threads that allocate at once arenas of their own (up to
/// eight per core), and each arena keeps the memory it once held: a server
/// whose blocking threads come and go would grow by arenas. Two share the
/// work of two cores' worth of threads well enough.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: called before any other thread exists; mallopt only sets an
    // allocator parameter.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
