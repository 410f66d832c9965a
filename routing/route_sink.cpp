#include "routing/route_sink.hpp"

namespace mesh::routing {

nlohmann::json route_json(const SelectedRoute& route)
{
    return {{"prefix", route.prefix.to_string()},
            {"ifindexes", route.ifindexes},
            {"distance", route.distance},
            {"metric", route.metric}};
}

} // namespace mesh::routing
