import { mount } from 'svelte';
import App from './App.svelte';
import { parseViewerOptions, urlWithoutToken } from './lib/options.ts';
import { Viewer } from './lib/viewer.svelte.ts';
import './app.css';

const TOKEN_KEY = 'segstream.token';

const options = parseViewerOptions(location.href);
const clean = urlWithoutToken(location.href);
if (clean !== null) history.replaceState(history.state, '', clean);
// The token lives for this tab only, so a reload keeps it but a shared screen does not.
if (options.token) sessionStorage.setItem(TOKEN_KEY, options.token);
else options.token = sessionStorage.getItem(TOKEN_KEY) ?? '';

// One viewer for the page's lifetime: it reconnects by itself, so the page never needs a reload.
const viewer = new Viewer(options);
mount(App, { target: document.getElementById('app')!, props: { viewer, kiosk: options.kiosk, renderer: options.renderer, tokenKey: TOKEN_KEY } });
