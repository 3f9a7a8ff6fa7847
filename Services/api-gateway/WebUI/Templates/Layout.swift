extension WebTemplates {
    /// Every page's frame: skip link, navigation (role-aware), flash and error messages.
    static let layout = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · IceShelves</title>
        <link rel="stylesheet" href="/iceshelves/static/app.css">
        <script src="/iceshelves/static/app.js" defer></script>
        </head>
        <body>
        <a class="skip" href="#main">Skip to content</a>
        <header>
        <nav aria-label="Main">
        <a class="brand" href="/iceshelves/">IceShelves</a>
        {{#user}}
        <ul>
        <li><a href="/iceshelves/">Dashboard</a></li>
        <li><a href="/iceshelves/eggs">Eggs</a></li>
        <li><a href="/iceshelves/clusters">Clusters</a></li>
        <li><a href="/iceshelves/deployments">Deployments</a></li>
        {{#canDeploy}}<li><a href="/iceshelves/deploy" id="nav-deploy">Deploy</a></li>{{/canDeploy}}
        </ul>
        <form method="post" action="/iceshelves/logout">
        <input type="hidden" name="_csrf" value="{{csrf}}">
        <span>{{user.name}} ({{user.role}})</span>
        <button type="submit" class="secondary">Log out</button>
        </form>
        {{/user}}
        </nav>
        </header>
        <main id="main">
        {{#flash}}<p class="flash" role="status">{{flash}}</p>{{/flash}}
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        {{$content}}{{/content}}
        </main>
        </body>
        </html>
        """#

    static let login = #"""
        {{<layout}}{{$content}}
        <h1>Log in</h1>
        <p>Paste an API key. It is kept on the server for this browser session only (an HttpOnly cookie names the session), never in a URL.</p>
        <p class="hint">A fresh install keeps its admin key in the file <code>admin.key</code> in the gateway's data directory
        (<code>--data-dir</code> or <code>ICESHELVES_GATEWAY_DATA_DIR</code>; <code>scripts/up</code> uses
        <code>/var/tmp/iceshelves/gateway/admin.key</code>). The gateway's log names the file at first start.
        Make keys for other people with <code>POST /iceshelves/api/keys</code>.</p>
        <form method="post" action="/iceshelves/login">
        <input type="hidden" name="_csrf" value="{{csrf}}">
        <label for="key">API key</label>
        <input id="key" name="key" type="password" autocomplete="current-password" required placeholder="isk_…">
        <button type="submit">Log in</button>
        </form>
        {{/content}}{{/layout}}
        """#

    static let message = #"""
        {{<layout}}{{$content}}
        <h1>{{title}}</h1>
        {{#detail}}<p>{{detail}}</p>{{/detail}}
        <p><a href="{{back}}">Back</a></p>
        {{/content}}{{/layout}}
        """#
}
