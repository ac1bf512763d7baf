// libyaml, the YAML 1.1 parser (Debian's libyaml-dev; runtime libyaml-0-2), for the YAML module.
#include <yaml.h>
