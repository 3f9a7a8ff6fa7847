extension WebTemplates {
    static let eggs = #"""
        {{<layout}}{{$content}}
        <h1>Eggs</h1>
        {{#canDeploy}}<p><a class="button" href="/iceshelves/eggs/new">Create from a template</a> <a class="button secondary" href="/iceshelves/eggs/upload">Upload an egg</a></p>{{/canDeploy}}
        <form method="get" action="/iceshelves/eggs" class="filters" role="search">
        <div><label for="f-search">Search</label><input id="f-search" name="search" value="{{search}}"></div>
        <div><label for="f-category">Category</label><select id="f-category" name="category"><option value="">all</option>{{#categories}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/categories}}</select></div>
        <div><button type="submit">Filter</button></div>
        </form>
        <div class="scroll"><table>
        <thead><tr><th scope="col">Name</th><th scope="col">Version</th><th scope="col">Category</th><th scope="col">Type</th><th scope="col">Description</th></tr></thead>
        <tbody>{{#eggs}}<tr><td><a href="/iceshelves/eggs/{{name}}">{{name}}</a></td><td>{{version}}</td><td>{{category}}</td><td>{{egg_type}}</td><td>{{description}}</td></tr>{{/eggs}}</tbody>
        </table></div>
        {{^hasEggs}}<p>No egg matches.</p>{{/hasEggs}}
        {{> pager}}
        {{/content}}{{/layout}}
        """#

    static let pager = #"""
        <nav class="pager" aria-label="Pages">
        {{#prev}}<a href="{{prev}}" rel="prev">Previous page</a>{{/prev}}
        <span>Page {{page}} of {{totalPages}} ({{total}} in all)</span>
        {{#next}}<a href="{{next}}" rel="next">Next page</a>{{/next}}
        </nav>
        """#

    static let egg = #"""
        {{<layout}}{{$content}}
        <h1>{{egg.display_name}} <small>({{egg.name}})</small></h1>
        <p>{{egg.description}}</p>
        {{#canDeploy}}<p><a class="button" id="deploy-egg" href="/iceshelves/deploy?egg={{egg.name}}">Deploy this egg</a></p>{{/canDeploy}}
        <dl>
        <dt>Version</dt><dd>{{egg.version}}</dd>
        <dt>Content hash</dt><dd><code>{{egg.content_hash}}</code></dd>
        <dt>Category</dt><dd>{{egg.category}}</dd>
        <dt>Type</dt><dd>{{egg.egg_type}}</dd>
        <dt>Base image</dt><dd>{{egg.base_image}}</dd>
        <dt>Tags</dt><dd>{{#egg.tags}}{{.}} {{/egg.tags}}</dd>
        </dl>
        {{#hasVariables}}
        <h2>Variables</h2>
        <div class="scroll"><table><thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Required</th><th scope="col">Default</th><th scope="col">Description</th></tr></thead>
        <tbody>{{#variables}}<tr><td>{{name}}</td><td>{{type}}</td><td>{{required}}</td><td>{{defaultText}}</td><td>{{description}}</td></tr>{{/variables}}</tbody></table></div>
        {{/hasVariables}}
        <h2>Versions</h2>
        <div class="scroll"><table><thead><tr><th scope="col">Version</th><th scope="col">Content hash</th><th scope="col">Created</th></tr></thead>
        <tbody>{{#versions}}<tr><td>{{version}}</td><td><code>{{content_hash}}</code></td><td>{{created_at}}{{#is_current}} (current){{/is_current}}</td></tr>{{/versions}}</tbody></table></div>
        <h2>cloud-init</h2>
        <pre aria-label="cloud-init of {{egg.name}}" tabindex="0"><code>{{{cloudInit}}}</code></pre>
        {{#readme}}<h2>README</h2><div class="readme">{{{readme}}}</div>{{/readme}}
        <h2>Recent deployments</h2>
        {{> deploymentTable}}
        {{/content}}{{/layout}}
        """#

    static let eggNew = #"""
        {{<layout}}{{$content}}
        <h1>Create an egg from a template</h1>
        <form method="get" action="/iceshelves/eggs/new" class="filters">
        <div><label for="t-template">Template</label>
        <select id="t-template" name="template" data-autosubmit>{{#templates}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/templates}}</select></div>
        <div><button type="submit" class="secondary">Use this template</button></div>
        </form>
        {{#template}}
        <p>{{template.description}}</p>
        <form method="post" action="/iceshelves/eggs/new">
        <input type="hidden" name="_csrf" value="{{csrf}}">
        <input type="hidden" name="template_id" value="{{template.name}}">
        <label for="e-name">New egg's name</label>
        <input id="e-name" name="name" required pattern="[a-z0-9][a-z0-9-]{0,62}" aria-describedby="e-name-hint">
        <p class="hint" id="e-name-hint">Lower-case letters, digits and hyphens.</p>
        <label for="e-description">Description</label>
        <input id="e-description" name="description">
        {{> variableFields}}
        <button type="submit">Create the egg</button>
        </form>
        {{/template}}
        {{/content}}{{/layout}}
        """#

    /// Inputs typed by an egg's or template's declared variables.
    static let variableFields = #"""
        {{#variables}}
        <label for="v-{{name}}">{{name}}{{#required}} (required){{/required}}</label>
        {{#isBoolean}}<select id="v-{{name}}" name="var.{{name}}" aria-describedby="v-{{name}}-hint"><option value="true"{{#defaultTrue}} selected{{/defaultTrue}}>true</option><option value="false"{{^defaultTrue}} selected{{/defaultTrue}}>false</option></select>{{/isBoolean}}
        {{#isInteger}}<input id="v-{{name}}" name="var.{{name}}" type="number" step="1" value="{{defaultText}}"{{#required}} required{{/required}} aria-describedby="v-{{name}}-hint">{{/isInteger}}
        {{#isChoice}}<select id="v-{{name}}" name="var.{{name}}" aria-describedby="v-{{name}}-hint">{{#allowedOptions}}<option{{#selected}} selected{{/selected}}>{{value}}</option>{{/allowedOptions}}</select>{{/isChoice}}
        {{#isText}}<input id="v-{{name}}" name="var.{{name}}" value="{{defaultText}}"{{#pattern}} pattern="{{pattern}}"{{/pattern}}{{#required}} required{{/required}} aria-describedby="v-{{name}}-hint">{{/isText}}
        {{#isList}}<textarea id="v-{{name}}" name="var.{{name}}" aria-describedby="v-{{name}}-hint">{{defaultText}}</textarea>{{/isList}}
        <p class="hint" id="v-{{name}}-hint">{{type}}{{#isList}}, one item per line{{/isList}}{{#pattern}}, pattern {{pattern}}{{/pattern}}. {{description}}</p>
        {{/variables}}
        """#

    static let eggUpload = #"""
        {{<layout}}{{$content}}
        <h1>Upload an egg</h1>
        <p>A <code>.tar.gz</code> of one egg folder: <code>metadata.json</code>, <code>cloud-init.yaml</code>, and optionally <code>README.md</code>, <code>lxd-profile.yaml</code>, <code>kvm-config.xml</code>.</p>
        <form id="upload-form" method="post" action="/iceshelves/eggs/upload">
        <input type="hidden" name="_csrf" value="{{csrf}}">
        <label for="archive">Archive</label>
        <input id="archive" name="archive" type="file" accept=".tar.gz,.tgz,application/gzip" required>
        <button type="submit">Upload</button>
        <p id="upload-result" role="status" aria-live="polite"></p>
        </form>
        {{/content}}{{/layout}}
        """#
}
