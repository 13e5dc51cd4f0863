import { createApp } from 'vue';
import App from './App.vue';
import { takeUrlToken } from './lib/route';
import { TEST_HOOKS } from './lib/test-hooks';
import { live } from './stores/live';
import { session } from './stores/session';
import './styles.css';

// A `?token=` link (from `make demo`) signs in directly and leaves the address bar without it.
const fromUrl = takeUrlToken(location.href);
if (fromUrl) history.replaceState(history.state, '', fromUrl.cleanUrl);
const token = fromUrl?.token ?? session.storedToken();
if (token) void session.signIn(token);

// Browser-test hook (the browser tests' build only): the live store, with the columns received so far.
if (TEST_HOOKS) Object.defineProperty(window, '__harkLive', { value: live, configurable: true });

createApp(App).mount('#app');
