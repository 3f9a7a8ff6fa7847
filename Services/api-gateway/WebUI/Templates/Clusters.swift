extension WebTemplates {
    static let clusters = #"""
        {{<layout}}{{$content}}
        <h1>Clusters</h1>
        {{#isAdmin}}<p><a class="button" href="/iceshelves/clusters/new">Add a cluster</a></p>{{/isAdmin}}
        <div class="scroll"><table>
        <thead><tr><th scope="col">Name</th><th scope="col">Hypervisor</th><th scope="col">Method</th><th scope="col">Endpoint</th><th scope="col">Status</th><th scope="col">Last check</th>{{#canDeploy}}<th scope="col">Test</th>{{/canDeploy}}</tr></thead>
        <tbody>{{#clusters}}<tr><td><a href="/iceshelves/clusters/{{id}}">{{name}}</a></td><td>{{hypervisor}}</td><td>{{connection_method}}</td><td>{{endpoint_url}}</td><td class="status s-{{status}}">{{status}}</td><td>{{last_check}}</td>
        {{#canDeploy}}<td><form method="post" action="/iceshelves/clusters/{{id}}/test" class="inline"><input type="hidden" name="_csrf" value="{{csrf}}"><button type="submit" class="secondary" aria-label="Test {{name}}">Test</button></form></td>{{/canDeploy}}</tr>{{/clusters}}</tbody>
        </table></div>
        {{^hasClusters}}<p>No clusters yet.</p>{{/hasClusters}}
        {{/content}}{{/layout}}
        """#

    static let clusterNew = #"""
        {{<layout}}{{$content}}
        <h1>Add a cluster</h1>
        <form method="get" action="/iceshelves/clusters/new" class="filters">
        <div><label for="c-method">Connection method</label>
        <select id="c-method" name="method" data-autosubmit>{{#methods}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/methods}}</select></div>
        <div><button type="submit" class="secondary">Use this method</button></div>
        </form>
        <form method="post" action="/iceshelves/clusters/new">
        <input type="hidden" name="_csrf" value="{{csrf}}">
        <input type="hidden" name="connection_method" value="{{method}}">
        <label for="c-name">Name</label><input id="c-name" name="name" required value="{{form.name}}">
        <label for="c-description">Description</label><input id="c-description" name="description" value="{{form.description}}">
        {{#isDirect}}
        <label for="c-endpoint">Endpoint URL</label><input id="c-endpoint" name="endpoint_url" type="url" required placeholder="https://lxd.example:8443" value="{{form.endpoint_url}}">
        <label for="c-cert">Client certificate (PEM)</label><textarea id="c-cert" name="client_cert" required>{{form.client_cert}}</textarea>
        <label for="c-key">Client key (PEM)</label><textarea id="c-key" name="client_key" required></textarea>
        <p class="hint">Sealed on the server and never shown again.</p>
        <label for="c-servercert">Server certificate (PEM), to pin it</label><textarea id="c-servercert" name="server_cert">{{form.server_cert}}</textarea>
        <label for="c-fp">or the server certificate's SHA-256 fingerprint</label><input id="c-fp" name="server_fingerprint" value="{{form.server_fingerprint}}">
        <label><input type="checkbox" name="verify_ssl" value="false"> Do not verify the server's certificate</label>
        {{/isDirect}}
        {{#isSSH}}
        <label for="c-host">SSH host</label><input id="c-host" name="ssh_host" required value="{{form.ssh_host}}">
        <label for="c-port">SSH port</label><input id="c-port" name="ssh_port" type="number" value="{{form.ssh_port}}" placeholder="22">
        <label for="c-user">SSH user</label><input id="c-user" name="ssh_user" required value="{{form.ssh_user}}">
        <label for="c-sshkey">SSH private key</label><textarea id="c-sshkey" name="ssh_key" required></textarea>
        <label for="c-hostkey">Host key fingerprint (SHA256:…)</label><input id="c-hostkey" name="ssh_host_key_fingerprint" value="{{form.ssh_host_key_fingerprint}}">
        <label for="c-sock">LXD socket on that host</label><input id="c-sock" name="socket_path" value="{{form.socket_path}}" placeholder="/var/lib/lxd/unix.socket">
        {{/isSSH}}
        {{#isSocket}}
        <label for="c-sock2">LXD socket path</label><input id="c-sock2" name="socket_path" required value="{{form.socket_path}}" placeholder="/var/lib/lxd/unix.socket">
        {{/isSocket}}
        {{#isAgent}}
        <label for="c-interval">Agent poll interval (seconds)</label><input id="c-interval" name="agent_poll_interval" type="number" value="{{form.agent_poll_interval}}" placeholder="10">
        <label for="c-agent-hv">Hypervisor the agent deploys to</label>
        <select id="c-agent-hv" name="hypervisor"><option value="lxd">LXD</option><option value="kvm"{{#agentKVM}} selected{{/agentKVM}}>KVM (libvirt on the agent's host; needs our iceshelves-agent)</option></select>
        <p class="hint">The agent key is shown once, after you add the cluster.</p>
        {{/isAgent}}
        {{#isKVM}}
        <input type="hidden" name="hypervisor" value="kvm">
        <label for="c-lv-uri">libvirt URI</label><input id="c-lv-uri" name="libvirt_uri" required value="{{form.libvirt_uri}}" placeholder="qemu+ssh://user@host/system" aria-describedby="c-lv-uri-hint">
        <p class="hint" id="c-lv-uri-hint">qemu:///system on the deployer's machine, qemu+ssh://user@host[:port]/system (SSH key and host key below), or qemu+tls://host[:port]/system (certificates below). No parameters (?…).</p>
        <label for="c-lv-pool">Storage pool</label><input id="c-lv-pool" name="storage_pool" value="{{form.storage_pool}}" placeholder="default">
        <label for="c-lv-net">Network</label><input id="c-lv-net" name="network" value="{{form.network}}" placeholder="default">
        <label for="c-lv-domain">Domain type</label>
        <select id="c-lv-domain" name="domain_type"><option value="kvm">kvm (hardware virtualisation)</option><option value="qemu"{{#kvmQemu}} selected{{/kvmQemu}}>qemu (software emulation, where KVM is unavailable)</option></select>
        <fieldset><legend>qemu+ssh: SSH</legend>
        <label for="c-lv-sshkey">SSH private key</label><textarea id="c-lv-sshkey" name="ssh_key"></textarea>
        <label for="c-lv-hostkey">Host key, as in known_hosts (ssh-ed25519 AAAA…)</label><input id="c-lv-hostkey" name="ssh_host_key" value="{{form.ssh_host_key}}">
        </fieldset>
        <fieldset><legend>qemu+tls: certificates</legend>
        <label for="c-lv-cert">Client certificate (PEM)</label><textarea id="c-lv-cert" name="client_cert">{{form.client_cert}}</textarea>
        <label for="c-lv-key">Client key (PEM)</label><textarea id="c-lv-key" name="client_key"></textarea>
        <label for="c-lv-ca">CA certificate (PEM)</label><textarea id="c-lv-ca" name="ca_cert">{{form.ca_cert}}</textarea>
        </fieldset>
        <p class="hint">Keys are sealed on the server and never shown again.</p>
        {{/isKVM}}
        <button type="submit">Add the cluster</button>
        </form>
        {{/content}}{{/layout}}
        """#

    static let cluster = #"""
        {{<layout}}{{$content}}
        <h1>Cluster {{cluster.name}}</h1>
        {{#agentKey}}
        <div class="secret" role="alert">
        <h2>Agent key: shown only this once</h2>
        <p><code id="agent-key">{{agentKey}}</code></p>
        <p>Install the agent on a host of the cluster:</p>
        <pre><code>sudo install -d -m 700 /etc/iceshelves
        sudo install -m 600 /dev/stdin /etc/iceshelves/agent.env &lt;&lt;'EOF'
        ICESHELVES_SERVER={{agentURL}}
        ICESHELVES_CLUSTER_ID={{cluster.id}}
        ICESHELVES_AGENT_KEY={{agentKey}}
        EOF
        sudo sh -c 'set -a; . /etc/iceshelves/agent.env; exec iceshelves-agent'</code></pre>
        </div>
        {{/agentKey}}
        {{#testResult}}<div class="{{#ok}}flash{{/ok}}{{^ok}}error{{/ok}}" role="status" id="test-result"><p>Connection test: <span class="status s-{{status}}">{{status}}</span>. {{message}}</p></div>{{/testResult}}
        <dl>
        <dt>Hypervisor</dt><dd id="cluster-hypervisor">{{cluster.hypervisor}}</dd>
        <dt>Method</dt><dd>{{cluster.connection_method}}</dd>
        {{#cluster.libvirt_uri}}<dt>libvirt URI</dt><dd>{{cluster.libvirt_uri}}</dd>
        <dt>Storage pool</dt><dd>{{cluster.storage_pool}}</dd>
        <dt>Network</dt><dd>{{cluster.network}}</dd>
        <dt>Domain type</dt><dd>{{cluster.domain_type}}</dd>{{/cluster.libvirt_uri}}
        <dt>Endpoint</dt><dd>{{cluster.endpoint_url}}</dd>
        <dt>Status</dt><dd class="status s-{{cluster.status}}" id="cluster-status">{{cluster.status}}</dd>
        <dt>Last check</dt><dd>{{cluster.last_check}}</dd>
        <dt>Description</dt><dd>{{cluster.description}}</dd>
        </dl>
        {{#canDeploy}}<form method="post" action="/iceshelves/clusters/{{cluster.id}}/test" class="inline"><input type="hidden" name="_csrf" value="{{csrf}}"><button type="submit" id="test-cluster">Test the connection</button></form>{{/canDeploy}}
        {{#isAdmin}}<form method="post" action="/iceshelves/clusters/{{cluster.id}}/delete" class="inline" data-confirm="Remove cluster {{cluster.name}}?"><input type="hidden" name="_csrf" value="{{csrf}}"><button type="submit" class="danger">Remove</button></form>{{/isAdmin}}
        {{#details}}
        <h2>Members and resources</h2>
        <dl>
        <dt>Server version</dt><dd>{{server_version}}</dd>
        <dt>API version</dt><dd>{{api_version}}</dd>
        {{#resourceRows}}<dt>{{key}}</dt><dd>{{value}}</dd>{{/resourceRows}}
        </dl>
        {{#hasMembers}}<div class="scroll"><table><thead><tr><th scope="col">Member</th><th scope="col">Status</th><th scope="col">Details</th></tr></thead>
        <tbody>{{#memberRows}}<tr><td>{{name}}</td><td>{{status}}</td><td>{{extra}}</td></tr>{{/memberRows}}</tbody></table></div>{{/hasMembers}}
        {{/details}}
        {{#warmPools}}
        <h2>Warm pools</h2>
        <p class="hint">Never-started instances that the lxd-deployer keeps ready: a deployment of the same image and profiles claims one and skips unpacking the image.</p>
        {{#hasRows}}<div class="scroll"><table id="warm-pools"><thead><tr><th scope="col">Image</th><th scope="col">Member</th><th scope="col">Profiles</th><th scope="col">Size</th><th scope="col">Ready</th><th scope="col">Hits</th><th scope="col">Misses</th><th scope="col">Warning</th></tr></thead>
        <tbody>{{#rows}}<tr><td>{{image}}</td><td>{{member}}</td><td>{{profiles}}</td><td>{{size}}</td><td>{{ready}}</td><td>{{hits}}</td><td>{{misses}}</td><td>{{warning}}</td></tr>{{/rows}}</tbody></table></div>{{/hasRows}}
        {{^hasRows}}<p>No warm pools.</p>{{/hasRows}}
        {{#isAdmin}}<form method="post" action="/iceshelves/clusters/{{cluster.id}}/warm-pools"><input type="hidden" name="_csrf" value="{{csrf}}">
        <label for="warm-pool-lines">Pools, one per line: IMAGE=SIZE or IMAGE=SIZE@MEMBER, then profiles=P1,P2 if not the default profile (empty removes them all, and their instances)</label>
        <textarea id="warm-pool-lines" name="pools" rows="3">{{text}}</textarea>
        <button type="submit" id="set-warm-pools">Set warm pools</button></form>{{/isAdmin}}
        {{/warmPools}}
        <h2>Recent deployments</h2>
        {{> deploymentTable}}
        {{/content}}{{/layout}}
        """#
}
