import { bundleSize } from '../support/bundle-size.ts';
import type { Figure } from '../support/figure.ts';
import { round } from '../support/stats.ts';

/** React is the app's own (a peer dependency): never part of what the bindings add. */
const REACT = ['react', 'react-dom', 'react/jsx-runtime'];

/** `export *` of the entries, minified, then gzip -9, resolved from the bindings' package. */
async function gzipped(entries: string[], external: string[]): Promise<number> {
  return (await bundleSize('react', entries, external)).gzip;
}

/** A React binding and the core SDK it wraps, measured the same way as ours. */
const PEERS: [binding: string, core: string][] = [
  ['@auth0/auth0-react', '@auth0/auth0-spa-js'],
  ['@azure/msal-react', '@azure/msal-browser'],
];

/**
 * What `@gatehouse/react` adds to a React app that already ships the SDK: the browser entry and the bindings
 * together, minus the browser entry alone (both with ky, React external), so that gzip's shared dictionary is
 * counted as a browser sees it.
 *
 * @example
 * ```ts
 * figures.push(...(await reactBindingsSize('6 SDK')));
 * ```
 */
export async function reactBindingsSize(scenario: string): Promise<Figure[]> {
  const [core, both, peers] = await Promise.all([
    gzipped(['@gatehouse/client'], REACT),
    gzipped(['@gatehouse/client', '@gatehouse/react'], REACT),
    Promise.all(
      PEERS.map(([binding, peerCore]) =>
        Promise.all([
          gzipped([peerCore], REACT),
          gzipped([peerCore, binding], REACT),
          gzipped([binding], REACT),
        ]),
      ),
    ),
  ]);
  const added = both - core;
  const peerFigures = PEERS.map(([binding, peerCore], i): Figure => {
    const [alone, withBinding, bindingAlone] = peers[i]!;
    return {
      scenario,
      name: `${binding} on top of ${peerCore} and React, min+gzip`,
      value: round((withBinding - alone) / 1024, 2),
      unit: 'KiB',
      ratio: round((withBinding - alone) / added),
      // auth0-react's ESM build inlines its own copy of auth0-spa-js: on top of the core it counts it twice.
      note: `${withBinding - alone} bytes: both (${withBinding} B) minus ${peerCore} alone (${alone} B); ${binding} alone ${bindingAlone} B; ratio vs @gatehouse/react (${added} B), React external`,
    };
  });
  return [
    {
      scenario,
      name: '@gatehouse/react on top of @gatehouse/client and React, min+gzip',
      value: round(added / 1024, 2),
      unit: 'KiB',
      target: '<= 1.5 KB (1,500 bytes)',
      pass: added <= 1500,
      note: `${added} bytes: the SDK and the bindings (${both} B) minus the SDK alone (${core} B), React external`,
    },
    ...peerFigures,
  ];
}
