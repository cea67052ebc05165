// A stand-in for ZooKeeper's PrometheusMetricsProvider, which Debian does not ship (no
// zookeeper-prometheus-metrics jar, no Prometheus simpleclient). It binds
// metricsProvider.httpHost:httpPort at start() and, like PrometheusMetricsProvider.start()
// in 3.8, turns a bind failure into a MetricsProviderLifeCycleException. Everything after
// that (MetricsProviderBootstrap, ZooKeeperServerMain, the exit code) is the real 3.8 server,
// so test_admin_zoocfg.py can compare Corral's metrics bind failure with it.
// Compiled at test time against /usr/share/java/zookeeper.jar.
package corral.test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Properties;
import org.apache.zookeeper.metrics.MetricsProviderLifeCycleException;
import org.apache.zookeeper.metrics.impl.NullMetricsProvider;

public class BindingMetricsProvider extends NullMetricsProvider {
    private String host = "0.0.0.0";
    private int port = 7000;
    private ServerSocket socket;

    @Override
    public void configure(Properties configuration) {
        // The provider sees metricsProvider.* without the prefix, as PrometheusMetricsProvider.
        host = configuration.getProperty("httpHost", "0.0.0.0");
        port = Integer.parseInt(configuration.getProperty("httpPort", "7000"));
    }

    @Override
    public void start() throws MetricsProviderLifeCycleException {
        try {
            socket = new ServerSocket();
            socket.bind(new InetSocketAddress(host, port));
        } catch (IOException err) {
            throw new MetricsProviderLifeCycleException(err);
        }
    }

    @Override
    public void stop() {
        try {
            if (socket != null) {
                socket.close();
            }
        } catch (IOException ignored) {
            // closing on the way out; nothing to report
        }
    }
}
