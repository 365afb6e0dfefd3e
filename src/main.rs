use clap::Parser;

/// See Cargo.toml: frames and levels are allocated and freed at a high rate.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = depthwatch::cli::Cli::parse();
    match depthwatch::app::main(cli) {
        Ok(code) => std::process::exit(code),
        // A reader that stopped reading (`depthwatch ... | head`) is not an error.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            std::process::exit(0)
        }
        Err(e) => {
            eprintln!("depthwatch: {e:#}");
            std::process::exit(1);
        }
    }
}
