// The server's life: read the config, load and check every plugin, create them, start
// them in dependency order, serve until SIGTERM/SIGINT, stop in reverse.
#pragma once

namespace corral::kernel::server {

// Parses the command line and runs the server; returns the process exit code.
int runServer(int argc, char** argv);

}  // namespace corral::kernel::server
