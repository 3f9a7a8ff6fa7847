import IceShelvesBus
import IceShelvesContracts

/// Where the broker learns the agent-poll clusters and their key hashes.
protocol AgentKeySource: Sendable {
    func agentKeys() async throws -> AgentKeys
}

/// Asks the gateway over the bus (``AgentKeysRequest`` on its RPC queue).
struct BusAgentKeySource: AgentKeySource {
    let client: AMQPClient

    func agentKeys() async throws -> AgentKeys {
        try await client.call(Envelope(AgentKeysRequest()), service: .apiGateway, expecting: AgentKeys.self, timeout: .seconds(10)).payload
    }
}
