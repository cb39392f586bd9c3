// epollscope-cli: the model (and the live backend) from the command line.
#include <iostream>

#include "ui/cli.h"

int main(int argc, char** argv) {
  using namespace eps::cli;
  CLI::App app{"epollscope-cli: how Linux waits for network data, simulated (and measured live)",
               "epollscope-cli"};
  app.set_version_flag("--version", std::string("epollscope-cli ") + EPS_VERSION);
  app.require_subcommand(1);
  app.failure_message(CLI::FailureMessage::help);  // a bad flag shows the usage
  std::vector<Command> commands;
  register_sim_commands(app, commands);
#ifdef EPS_HAVE_LIVE
  register_live_commands(app, commands);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints the message and usage
    return kExitUsage;
  }
  try {
    for (const Command& c : commands)
      if (c.app->parsed()) return c.run();
  } catch (const ExitError& e) {
    return e.code;
  } catch (const std::exception& e) {
    std::cerr << "epollscope-cli: " << e.what() << "\n";
    return kExitFailed;
  }
  return kExitUsage;
}
