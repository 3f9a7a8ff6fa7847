extension WebTemplates {
    static let dashboard = #"""
        {{<layout}}{{$content}}
        <h1>Dashboard</h1>
        <section aria-labelledby="counts">
        <h2 id="counts">At a glance</h2>
        <div class="cards">
        <div class="card"><b>{{eggCount}}</b> eggs</div>
        <div class="card"><b>{{clusterCount}}</b> clusters</div>
        {{#states}}<div class="card"><a href="/iceshelves/deployments?status={{state}}"><b>{{count}}</b> {{label}}</a></div>{{/states}}
        </div>
        </section>
        <section aria-labelledby="latest" id="dash-live" data-events="/iceshelves/events">
        <h2 id="latest">Latest deployments</h2>
        {{#hasDeployments}}
        <div class="scroll"><table>
        <thead><tr><th scope="col">Instance</th><th scope="col">Egg</th><th scope="col">Status</th><th scope="col">Created</th></tr></thead>
        <tbody>
        {{#deployments}}<tr data-deployment="{{id}}"><td><a href="/iceshelves/deployments/{{id}}">{{instance_name}}</a></td><td>{{egg_name}}</td><td class="status s-{{status}}">{{status}}</td><td>{{created_at}}</td></tr>{{/deployments}}
        </tbody></table></div>
        {{/hasDeployments}}
        {{^hasDeployments}}<p>No deployments yet. {{#canDeploy}}<a href="/iceshelves/deploy">Deploy an egg</a>.{{/canDeploy}}</p>{{/hasDeployments}}
        </section>
        <section aria-labelledby="health">
        <h2 id="health">Cluster health</h2>
        {{#hasClusters}}
        <div class="scroll"><table>
        <thead><tr><th scope="col">Cluster</th><th scope="col">Method</th><th scope="col">Status</th><th scope="col">Last check</th></tr></thead>
        <tbody>{{#clusters}}<tr><td><a href="/iceshelves/clusters/{{id}}">{{name}}</a></td><td>{{connection_method}}</td><td class="status s-{{status}}">{{status}}</td><td>{{last_check}}</td></tr>{{/clusters}}</tbody>
        </table></div>
        {{/hasClusters}}
        {{^hasClusters}}<p>No clusters yet. {{#isAdmin}}<a href="/iceshelves/clusters/new">Add a cluster</a>.{{/isAdmin}}</p>{{/hasClusters}}
        </section>
        {{/content}}{{/layout}}
        """#
}
