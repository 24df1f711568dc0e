declare module '*.svelte' {
  import type { Component } from 'svelte';
  // Props are typed where each component is declared; this only lets `import App from './App.svelte'` resolve.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const component: Component<any>;
  export default component;
}
declare module '*.css';
