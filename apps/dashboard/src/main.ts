import { createApp } from 'vue';
import App from './App.vue';
import { takeUrlToken } from './lib/route';
import { live } from './stores/live';
import { session } from './stores/session';
import './styles.css';

// A `?token=` link (from `make demo`) signs in directly and leaves the address bar without it.
const fromUrl = takeUrlToken(location.href);
if (fromUrl) history.replaceState(history.state, '', fromUrl.cleanUrl);
const token = fromUrl?.token ?? session.storedToken();
if (token) void session.signIn(token);

// Browser-test hook: columns received so far (the sensor view also counts them into `window.__harkColumns`).
Object.defineProperty(window, '__harkLive', { value: live, configurable: true });

createApp(App).mount('#app');
